"""The harness: what runs one recipe.

- `options`: `RunOptions`, everything a run was asked for, validated once;
- `recipe`: the recipe protocol, a module's declarations checked; `plan`: its settings,
  variants, conditions and seeds under the options, computed once;
- `experiment`: every variant under every condition with every seed, and the result file;
  `run`: the `Run` each `train(run)` receives; `tuning`: a variant's nuisance
  hyperparameters searched before its seeds train; `fusion`: a variant's seeds trained as one
  model (`fused`: that model);
- `trainer`: `fit` and `evaluate` with the standard callbacks, histories, backups
  (`checkpoints`) and one traced graph per architecture (`cookbook.twins`);
  `training_loop`: the custom loop `MultiWorkerMirroredStrategy` needs;
- `scaling`: devices, `tf.distribute` strategies, mixed precision and XLA; `resume`,
  `locking`, `progress`: what an interrupted run keeps, one writer per folder, what a run
  tells the display.

It imports the building blocks (`cookbook.data`, `cookbook.analysis`, ...) and never the
command around it (`cookbook.cli`).
"""
