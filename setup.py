from setuptools import find_packages, setup


def readme() -> str:
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def version() -> str:
    scope: dict = {}
    with open('mmseg_weak/version.py', encoding='utf-8') as f:
        exec(f.read(), scope)
    return scope['__version__']


def requirements(path: str) -> list:
    with open(path, encoding='utf-8') as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith('#')]


setup(
    name='mmseg_weak',
    version=version(),
    description='Weakly- and semi-supervised semantic segmentation plugins for MMSegmentation 1.x',
    long_description=readme(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    python_requires='>=3.9',
    install_requires=['torch==2.13.0', 'mmcv==2.1.0'] + requirements('requirements/runtime.txt'),
    extras_require={
        'tests': requirements('requirements/tests.txt'),
        'crf': requirements('requirements/optional.txt'),
    },
    license='Apache License 2.0',
    zip_safe=False,
)
