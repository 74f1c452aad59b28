"""The handlers an App has registered, and which engine hooks they need."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional

from . import _native

Handler = Callable[..., Any]


@dataclass
class Hooks:
    connect: Optional[Handler] = None
    open: Optional[Handler] = None
    disconnect: Optional[Handler] = None
    presence: Optional[Handler] = None
    authorize: Optional[Handler] = None
    messages: Dict[str, Handler] = field(default_factory=dict)

    def native_mask(self) -> int:
        """Only the engine hooks something listens to are installed: with no
        on_connect the engine accepts valid paths itself (HTTP refusals stay
        HTTP), with no message handler it answers unknown_type itself, with
        no on_authorize it allows every action without asking."""
        mask = 0
        if self.connect is not None:
            mask |= _native.HOOK_CONNECT
        if self.open is not None:
            mask |= _native.HOOK_OPEN
        if self.disconnect is not None:
            mask |= _native.HOOK_DISCONNECT
        if self.presence is not None:
            mask |= _native.HOOK_PRESENCE
        if self.messages:
            mask |= _native.HOOK_MESSAGE
        if self.authorize is not None:
            mask |= _native.HOOK_AUTHORIZE
        return mask
