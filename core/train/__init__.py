"""Training: the loop and what it is made of, the optimizer, scheduler and loss catalogues, and the [training] fast option."""
