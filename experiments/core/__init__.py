"""The torch side shared by every experiment: the training loop of Eq. (3) and its run folders,
the loss terms, MMD, evaluation and data. An experiment lives in its own subpackage beside this one."""
