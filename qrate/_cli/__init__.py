"""One module per CLI verb; each exposes ``main(argv) -> int`` with its own argparse parser."""
