"""storemon: how often were the stores offline while they were supposed to be open?"""

__version__ = "0.1.0"
