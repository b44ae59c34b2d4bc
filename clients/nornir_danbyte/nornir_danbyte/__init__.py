"""Danbyte inventory clients: ``nornir_danbyte.core`` (standard library only, shared with
the Ansible collection ``danbyte.sot``) and the Nornir plugin ``DanbyteInventory``."""

__all__ = ["DanbyteInventory"]


def __getattr__(name: str):  # noqa: ANN202 - keeps `import nornir_danbyte.core` free of nornir
    if name == "DanbyteInventory":
        from nornir_danbyte.plugin import DanbyteInventory

        return DanbyteInventory
    raise AttributeError(name)
