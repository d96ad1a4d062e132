"""Process tooling: the run command, its supervisor and the local Redis it starts."""
