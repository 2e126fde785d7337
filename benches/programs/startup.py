"""startup: one trivial expression -- the cost of starting the language."""
print(1 + 2)
