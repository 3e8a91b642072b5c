from .box_masks import batch_boxes_to_masks, boxes_to_masks, boxes_to_seg_map
from .cam_io import (CAM_FILE_SUFFIX, CAMFileError, check_cams, load_cams,
                     save_cams)
from .checkpoint import (checkpoint_safe_globals,
                         register_checkpoint_safe_globals)
from .choices import check_choice
from .dataset_override import apply_dataset_options, set_dataset
from .dist_utils import (cleanup_distributed, init_cpu_process_group,
                         replace_sync_bn, setup_cpu_distributed)
from .known_warnings import ignore_known_warnings
from .soft_maps import (PseudoLabelError, get_soft_map, labels_from_soft_map,
                        set_soft_map)
from .supervision import (BOX, FULL, IMAGE_LABEL, PSEUDO_MASK,
                          SUPERVISION_TYPES, UNLABELED, check_supervision,
                          get_supervision, indices_with_supervision)

__all__ = [
    'BOX', 'CAMFileError', 'CAM_FILE_SUFFIX', 'FULL', 'IMAGE_LABEL',
    'PSEUDO_MASK', 'PseudoLabelError', 'SUPERVISION_TYPES', 'UNLABELED',
    'apply_dataset_options', 'batch_boxes_to_masks', 'boxes_to_masks',
    'boxes_to_seg_map', 'check_cams', 'check_choice', 'check_supervision',
    'checkpoint_safe_globals', 'cleanup_distributed', 'get_soft_map',
    'get_supervision', 'ignore_known_warnings', 'indices_with_supervision',
    'init_cpu_process_group', 'labels_from_soft_map', 'load_cams',
    'register_checkpoint_safe_globals', 'replace_sync_bn', 'save_cams',
    'set_dataset', 'set_soft_map', 'setup_cpu_distributed'
]
