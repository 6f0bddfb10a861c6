"""Running a study: the stages in order, a plain runner, the Prefect flows, serve and run records."""
