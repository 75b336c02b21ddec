"""Datasets: what every builder shares (memory.py), the registered builders (digits, images, tables, text), batching of images on the device and the data preview."""
