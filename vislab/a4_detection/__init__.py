"""What only a4_detection uses: its digit-box datasets, scenes, drawings and detections CSV."""
