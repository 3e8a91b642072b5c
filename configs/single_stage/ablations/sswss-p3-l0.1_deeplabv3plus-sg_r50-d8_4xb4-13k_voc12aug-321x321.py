# Table 1a: focal mask penalty p = 3, lambda = 0.1.
_base_ = '../sswss_deeplabv3plus-sg_r50-d8_4xb4-13k_voc12aug-321x321.py'
model = dict(decode_head=dict(focal_power=3.0, focal_lambda=0.1))
