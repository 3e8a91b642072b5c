# Table 1b: no PAMR: pseudo ground truth from the raw masks.
_base_ = '../sswss_deeplabv3plus-sg_r50-d8_4xb4-13k_voc12aug-321x321.py'
model = dict(decode_head=dict(pamr=None))
