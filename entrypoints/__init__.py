"""What a person or a process starts: the top floor, which may import every floor below."""
