"""videossr: verifiable self-supervised RL data from raw videos (VideoSSR)."""

__version__ = "0.1.0"
