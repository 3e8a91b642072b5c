# Table 1a (Araslanov & Roth, CVPR 2020): the plain mask penalty (p = 0),
# lambda = 0.01.
# Table 1a / 1b fix psi = 0.5 with GCI for the Stochastic Gate.
_base_ = '../sswss_deeplabv3plus-sg_r50-d8_4xb4-13k_voc12aug-321x321.py'
model = dict(
    decode_head=dict(mix_rate=0.5, focal_power=0.0, focal_lambda=0.01))
