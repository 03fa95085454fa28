"""infgrad: checks and reproductions for 'On the Value of Infinite Gradients in VAE Models'.

The mathematics lives in `theory` (numpy), `proofs_check` (sympy), the torch side in
`experiments`, the plots in `figures`; this package holds the command-line entry point and the one
tolerance table (`infgrad.tolerances`) that the tests and `infgrad verify` share.
"""
