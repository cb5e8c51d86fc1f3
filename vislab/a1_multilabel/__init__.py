"""What only a1_multilabel uses: its datasets (embedded scenes, VOC, Planet), saved runs, browser."""
