# Table 1c: deterministic mix (r = psi = 0.5 at train time too), with GCI.
_base_ = '../sswss_deeplabv3plus-sg_r50-d8_4xb4-13k_voc12aug-321x321.py'
model = dict(decode_head=dict(mix_rate=0.5, deterministic_gate=True))
