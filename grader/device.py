"""Which device the torch references run on, and how to say it in a check's output."""

import torch


def device() -> torch.device:
    """The GPU when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def describe(dev: torch.device | None = None) -> str:
    dev = dev or device()
    if dev.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(dev)})"
    return "cpu"
