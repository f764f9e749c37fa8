print("segtool: not built yet")
