# MMSeg's runtime defaults + this package's registrations.
_base_ = 'mmseg::_base_/default_runtime.py'
custom_imports = dict(imports=['mmseg_weak'], allow_failed_imports=False)
