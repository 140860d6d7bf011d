"""Reports: tables, plots and Markdown/HTML/JSON/CSV writers for one or several benched runs."""
