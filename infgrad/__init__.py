"""infgrad: checks and reproductions for 'On the Value of Infinite Gradients in VAE Models'.

The mathematics lives in `theory` (numpy), `proofs_check` (sympy), the torch side in
`experiments`, the plots in `figures`; this package only holds the command-line entry point.
"""
