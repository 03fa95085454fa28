"""Main-text Figure 4 (section 4): learned gamma against gamma fixed at gamma* on CelebA, with the
network of supplement section 7 (`infgrad celeba`)."""
