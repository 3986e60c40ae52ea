import LMLab
print("lmlab")
