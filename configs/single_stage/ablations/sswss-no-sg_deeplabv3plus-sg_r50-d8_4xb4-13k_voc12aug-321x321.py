# Table 1c: no Stochastic Gate: the plain DeepLabV3+ decoder (deep features).
_base_ = '../sswss_deeplabv3plus-sg_r50-d8_4xb4-13k_voc12aug-321x321.py'
model = dict(decode_head=dict(use_sg=False))
