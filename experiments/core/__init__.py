"""The torch side shared by every experiment: the training loop of Eq. (3) and its run folders, the
device and precision, the loss terms, MMD, evaluation, FLOP counts, the command-line layer, parallel
runs and data. An experiment lives in its own subpackage beside this one."""
