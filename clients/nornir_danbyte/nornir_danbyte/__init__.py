"""Danbyte inventory clients: ``nornir_danbyte.core`` (standard library only, shared with
the Ansible collection ``danbyte.sot``) and the Nornir plugin ``DanbyteInventory``."""

__all__ = ["DanbyteInventory"]


def __getattr__(name: str) -> type:  # lazily: `import nornir_danbyte.core` needs no nornir
    if name == "DanbyteInventory":
        from nornir_danbyte.plugin import DanbyteInventory

        return DanbyteInventory
    raise AttributeError(name)
