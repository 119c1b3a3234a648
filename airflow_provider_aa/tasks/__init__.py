"""What the operators and sensors share when a task runs: input errors, saved progress, waits, names, stop on kill, export files."""
