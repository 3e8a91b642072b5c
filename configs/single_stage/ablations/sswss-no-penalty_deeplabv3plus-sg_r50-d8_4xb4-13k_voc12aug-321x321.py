# Table 1a: no mask penalty (lambda = 0): nGWP scores only.
_base_ = '../sswss_deeplabv3plus-sg_r50-d8_4xb4-13k_voc12aug-321x321.py'
model = dict(decode_head=dict(focal_lambda=0.0))
