FLAG = "gctf{g3_fake_cybench_d}"
