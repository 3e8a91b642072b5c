"""Known deprecation warnings of the dependencies that the tools hide."""
import warnings

__all__ = ['KNOWN_WARNINGS', 'ignore_known_warnings']

#: ``(message, category, module)`` of each hidden warning: the start of its
#: message, its class and a regular expression matching the module that
#: raises it. These are deprecations inside mmengine / MMSeg that a user of
#: this package cannot act on.
KNOWN_WARNINGS = (
    ('pkg_resources is deprecated as an API', UserWarning,
     r'(mmengine\.utils\.package_utils|importlib)$'),
    ('``build_loss`` would be deprecated soon', UserWarning,
     r'mmseg\.models\.builder$'),
    ('`broadcast_buffers` is deprecated', FutureWarning,
     r'mmengine\.model\.wrappers\.distributed$'),
)


def ignore_known_warnings() -> None:
    """Hide the :data:`KNOWN_WARNINGS` in this process.

    Only these exact messages from these modules are filtered; every other
    warning is still shown. The warnings are raised at run time (config
    loading, model building, DDP wrapping), so the entry points of
    ``tools/`` call this once, after their imports.
    """
    for message, category, module in KNOWN_WARNINGS:
        warnings.filterwarnings(
            'ignore', message=message, category=category, module=module)
