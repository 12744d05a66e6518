"""Guard torchvision's two unguarded fake-op registrations (HOST-NOTES pitfall 4).

The PyPI torchvision wheel is a CUDA build. On the CPU torch here its C++ ops are
missing, and ``torchvision/_meta_registrations.py`` registers fake kernels for
``torchvision::nms`` and ``roi_align`` unconditionally, so ``import torchvision``
raises. We wrap those decorators in ``if torchvision.extension._has_ops()``.
Idempotent: a file already patched is left alone.
"""

import importlib.util
import pathlib
import re
import sys

MARK = "# dreamactor: guarded"


def main() -> int:
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        print("torchvision is not installed", file=sys.stderr)
        return 1
    path = pathlib.Path(spec.origin).parent / "_meta_registrations.py"
    text = path.read_text()
    if MARK in text:
        return 0
    # `@torch.library.register_fake("torchvision::nms")` and the roi_align one
    # sit at column 0; turn each into a decorator that is a no-op without ops.
    pattern = re.compile(r'^@torch\.library\.register_fake\(("torchvision::[a-z_]+")\)$', re.M)
    count = len(pattern.findall(text))
    if count == 0:
        print(f"nothing to patch in {path}", file=sys.stderr)
        return 1
    text = pattern.sub(
        r'@(torch.library.register_fake(\1) if torchvision.extension._has_ops() else (lambda f: f))  ' + MARK,
        text,
    )
    if "import torchvision.extension" not in text and "import torchvision\n" not in text:
        text = "import torchvision\nimport torchvision.extension\n" + text
    path.write_text(text)
    print(f"patched {count} registrations in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
