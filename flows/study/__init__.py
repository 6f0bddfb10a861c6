"""The study: its file (`study.yaml`, in `model`), YAML and error helpers (`config`), and `init`'s scaffold."""
