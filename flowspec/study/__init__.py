"""Studies of a spec's settings on Optuna: ``flowspec sweep`` (a grid) and ``flowspec tune``
(a search), shared by worker processes and machines through one study's storage.

``space`` and ``configs`` (what varies, checked against the user's spec) import neither
torch nor Optuna; ``storage``, ``worker`` and ``results`` need Optuna (``pip install
'flowspec[studies]'``); ``replicates`` trains with torch; ``figures`` draws with matplotlib.
"""
