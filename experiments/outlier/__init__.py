"""Supplement section 6, Table 1: a VAE with learned gamma trained on FashionMNIST scores MNIST
as outliers (`infgrad outlier`)."""
