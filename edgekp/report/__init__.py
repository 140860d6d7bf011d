"""Reports: tables, plots and Markdown/HTML/JSON/CSV writers for one or several benched runs; and the
studies built from them: the reference report, QAT against PTQ, the pose-balance ablation."""
