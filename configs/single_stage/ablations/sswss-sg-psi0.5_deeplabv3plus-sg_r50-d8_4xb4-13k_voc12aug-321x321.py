# Table 1c: Stochastic Gate with psi = 0.5, with GCI.
_base_ = '../sswss_deeplabv3plus-sg_r50-d8_4xb4-13k_voc12aug-321x321.py'
model = dict(decode_head=dict(mix_rate=0.5))
