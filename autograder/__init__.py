"""The vislab autograder: hidden checks, class grading, feedback, grade table and leaderboard."""
