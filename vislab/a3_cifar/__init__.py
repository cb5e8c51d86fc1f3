"""What only a3_cifar uses: its datasets (the embedded textured digits, CIFAR-10)."""
