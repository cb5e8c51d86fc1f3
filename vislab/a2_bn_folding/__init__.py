"""What only a2_bn_folding uses: its comparison photos, conv+BN pairs, inference timing."""
