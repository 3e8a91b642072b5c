# Table 1a: focal mask penalty p = 3, lambda = 0.1.
# Table 1a / 1b fix psi = 0.5 with GCI for the Stochastic Gate.
_base_ = '../sswss_deeplabv3plus-sg_r50-d8_4xb4-13k_voc12aug-321x321.py'
model = dict(decode_head=dict(mix_rate=0.5, focal_power=3.0, focal_lambda=0.1))
