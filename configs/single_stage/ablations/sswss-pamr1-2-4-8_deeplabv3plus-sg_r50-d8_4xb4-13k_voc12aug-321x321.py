# Table 1b: PAMR affinity kernel with dilations 1-2-4-8 (default 1-2-4-8-12-24).
_base_ = '../sswss_deeplabv3plus-sg_r50-d8_4xb4-13k_voc12aug-321x321.py'
model = dict(decode_head=dict(pamr=dict(dilations=(1, 2, 4, 8))))
