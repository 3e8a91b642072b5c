from .box_masks import batch_boxes_to_masks, boxes_to_masks, boxes_to_seg_map
from .checkpoint import (checkpoint_safe_globals,
                         register_checkpoint_safe_globals)
from .dist_utils import (cleanup_distributed, init_cpu_process_group,
                         replace_sync_bn, setup_cpu_distributed)
from .supervision import (BOX, FULL, IMAGE_LABEL, PSEUDO_MASK,
                          SUPERVISION_TYPES, UNLABELED, check_supervision,
                          get_supervision, indices_with_supervision)

__all__ = [
    'batch_boxes_to_masks', 'boxes_to_masks', 'boxes_to_seg_map', 'BOX',
    'FULL', 'IMAGE_LABEL', 'PSEUDO_MASK', 'SUPERVISION_TYPES', 'UNLABELED',
    'check_supervision', 'get_supervision', 'indices_with_supervision',
    'checkpoint_safe_globals', 'register_checkpoint_safe_globals',
    'cleanup_distributed', 'init_cpu_process_group', 'replace_sync_bn',
    'setup_cpu_distributed'
]
from .cam_io import (CAM_FILE_SUFFIX, CAMFileError, check_cams,  # noqa
                     load_cams, save_cams)

__all__ += [
    'CAM_FILE_SUFFIX', 'CAMFileError', 'check_cams', 'load_cams', 'save_cams'
]
from .soft_maps import (PseudoLabelError, get_soft_map,  # noqa: E402
                        labels_from_soft_map, set_soft_map)

__all__ += [
    'PseudoLabelError', 'get_soft_map', 'labels_from_soft_map', 'set_soft_map'
]
from .dataset_override import apply_dataset_options, set_dataset  # noqa: E402,F401
