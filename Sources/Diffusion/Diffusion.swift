// Diffusion: schedules, DDIM / invDDIM / aDDIM, guidance, samplers, teacher loss and the
// multistep consistency step (docs/algorithms.md §1–6), independent of any particular network.
