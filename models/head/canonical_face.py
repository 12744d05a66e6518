"""The canonical face: a neutral 3D MediaPipe face mesh in metres, and the rigid
alignment of measured landmarks to it.

Where it comes from
-------------------
The mediapipe wheel does not bundle MediaPipe's canonical face model, so the pack
derives its own, once, from MediaPipe's own output (``derive_canonical_face``, rerun
with ``python -m scripts.harness.derive_canonical_face``): the 478 face-mesh landmarks (x, y pixels
and MediaPipe z at the same scale) of every detected frame of four real clips of
three people (WolfgangLanger_Pexels.mp4 every 2nd frame, single_face.mp4,
face_noface.mov, astronaut.png), each clip averaged by generalised Procrustes
analysis (rotation + uniform scale), the clip means averaged the same way, then:

* made left/right symmetric: the mesh's mirror pairing is found by matching the
  shape to its reflection (a 1:1 assignment; 28 points map to themselves, the
  midline), and the shape is averaged with its re-aligned mirror image;
* put in the **head frame**: origin at the midpoint of the two eye centres (each
  the midpoint of its outer and inner corner, landmarks 33/133 and 263/362);
  ``x`` = towards the subject's RIGHT ear (mean of the right-minus-left vectors of
  the pairs 33/263, 133/362, 234/454, 61/291), ``y`` = DOWN along the face
  (forehead top 10 to chin 152, made orthogonal to x), ``z = x cross y`` = FORWARD
  out of the face (the nose tip has the largest z). Right-handed;
* scaled to metres so that the two eye centres are ``EYE_CENTRE_DISTANCE_M`` apart
  (0.063 m, the adult mean interpupillary distance).

Because it is MediaPipe's own average output, its depth scale matches what the
detector reports (MediaPipe's z is only "roughly" x's scale), which a textbook head
model would not. ``RIGID_LANDMARKS`` are the half of the points that moved least
relative to the head over the expressive WolfgangLanger clip (forehead, nose,
cheekbones, temples, eye corners), mirrored so the set is symmetric: fitting on
them keeps smiles and open mouths from tilting the head.

Length: over 500 lines, of which about 370 are the two data tables at the bottom (the
mesh in tenths of a millimetre, the rigid landmark set); the code is about 150 lines.
"""

from __future__ import annotations

import numpy as np

EYE_CENTRE_DISTANCE_M = 0.063

# Symmetric landmark pairs (subject's right, subject's left) that define the x axis.
LR_PAIRS = ((33, 263), (133, 362), (234, 454), (61, 291))
FOREHEAD_TOP, CHIN, NOSE_TIP = 10, 152, 4
RIGHT_EYE_CORNERS, LEFT_EYE_CORNERS = (33, 133), (263, 362)
RIGHT_FACE_EDGE, LEFT_FACE_EDGE = 234, 454


# ------------------------------------------------------------------ alignment
def similarity_fit(
    src: np.ndarray,
    dst: np.ndarray,
    weights: np.ndarray | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity ``dst ~ s * R @ src + t`` (Umeyama 1991).

    src, dst (N, 3); weights (N,) >= 0 or None. Returns s (), R (3, 3) a proper
    rotation (det +1, never a reflection), t (3,).
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    w = np.ones(len(src)) if weights is None else np.asarray(weights, np.float64)
    w = w / w.sum()
    mu_s, mu_d = w @ src, w @ dst
    a, b = src - mu_s, dst - mu_d
    cov = (b * w[:, None]).T @ a
    U, S, Vt = np.linalg.svd(cov)
    d = np.ones(3)
    d[2] = np.sign(np.linalg.det(U @ Vt)) or 1.0
    R = (U * d) @ Vt
    var = w @ (a * a).sum(1)
    s = float((S * d).sum() / var)
    return s, R, mu_d - s * R @ mu_s


# ------------------------------------------------------------------ derivation
def _procrustes_mean(shapes: list[np.ndarray], iterations: int = 8) -> np.ndarray:
    """Generalised Procrustes mean of (N, 3) shapes: centred, unit RMS size, in the
    orientation of the first shape."""
    norm = [(x - x.mean(0)) / np.sqrt(((x - x.mean(0)) ** 2).sum(1).mean()) for x in shapes]
    mean = norm[0]
    for _ in range(iterations):
        aligned = []
        for x in norm:
            s, R, t = similarity_fit(x, mean)
            aligned.append(s * x @ R.T + t)
        new = np.mean(aligned, 0)
        new = (new - new.mean(0)) / np.sqrt(((new - new.mean(0)) ** 2).sum(1).mean())
        s, R, t = similarity_fit(new, mean)
        mean = s * new @ R.T + t
    return mean


def _head_axes(shape: np.ndarray) -> np.ndarray:
    """(3, 3) rows x, y, z of the head frame (see the module docstring) for a shape."""
    x = np.mean([shape[right] - shape[left] for right, left in LR_PAIRS], 0)
    x /= np.linalg.norm(x)
    y = shape[CHIN] - shape[FOREHEAD_TOP]
    y -= x * (x @ y)
    y /= np.linalg.norm(y)
    return np.stack([x, y, np.cross(x, y)])


def mirror_pairing(shape: np.ndarray) -> np.ndarray:
    """(N,) index of each point's mirror image, for a shape already in the head frame."""
    from scipy.optimize import linear_sum_assignment

    reflected = shape * np.array([-1.0, 1.0, 1.0])
    dist = np.linalg.norm(shape[:, None, :] - reflected[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(dist)
    perm = np.empty(len(shape), int)
    perm[rows] = cols
    return perm


def _to_head_frame(shape: np.ndarray) -> np.ndarray:
    axes = _head_axes(shape)
    return (shape - shape.mean(0)) @ axes.T


def derive_canonical_face(clips: list[np.ndarray], expressive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Derive the canonical face (see the module docstring).

    clips: one (N_i, 478, 3) landmark cloud per clip (pixels, MediaPipe z in px).
    expressive: (N, 478, 3) clouds of one expressive clip, to rank landmark rigidity.
    Returns the face (478, 3) metres in the head frame and the sorted rigid indices.
    """
    shape = _to_head_frame(_procrustes_mean([_procrustes_mean(list(c)) for c in clips]))
    for _ in range(2):  # symmetrise; the second pass refines the plane
        perm = mirror_pairing(shape)
        mirrored = (shape * np.array([-1.0, 1.0, 1.0]))[perm]
        _, R, t = similarity_fit(mirrored, shape)
        shape = _to_head_frame(0.5 * (shape + mirrored @ R.T + t))
    right_eye = shape[list(RIGHT_EYE_CORNERS)].mean(0)
    left_eye = shape[list(LEFT_EYE_CORNERS)].mean(0)
    face = (shape - 0.5 * (right_eye + left_eye)) * (EYE_CENTRE_DISTANCE_M / np.linalg.norm(right_eye - left_eye))

    # Rigidity: residual of each point after aligning every frame to the clip mean.
    mean = _procrustes_mean(list(expressive))
    resid = []
    for cloud in expressive:
        c = (cloud - cloud.mean(0)) / np.sqrt(((cloud - cloud.mean(0)) ** 2).sum(1).mean())
        s, R, t = similarity_fit(c, mean)
        resid.append(np.linalg.norm(s * c @ R.T + t - mean, axis=1))
    resid = np.asarray(resid)
    score = resid.mean(0) + resid.std(0)
    score = 0.5 * (score + score[perm])  # same score for both points of a mirror pair
    rigid = np.nonzero(score <= np.median(score))[0]
    return face.astype(np.float32), rigid


def format_table(face: np.ndarray) -> str:
    tenths_mm = np.round(face * 1e4).astype(int)
    rows = [" ".join(f"{v:5d}" for v in row) for row in tenths_mm]
    return "\n".join("  ".join(rows[i : i + 4]) for i in range(0, len(rows), 4))


# ------------------------------------------------------------------ the data
# (478, 3) in 0.1 mm, head frame (x subject's right, y down, z out of the face),
# origin between the eye centres. Four points per line. Written by scripts/harness/derive_canonical_face.py.
_CANONICAL_FACE_TENTHS_MM = """
    0   559   280      0   360   440      0   431   288     52   142   340
    0   288   456      0   200   424      0    -3   241    432     8    -5
    0  -167   183      0  -257   188      0  -564   106      0   581   272
    0   603   256      0   617   232      0   716   212      0   738   226
    0   764   243      0   797   238      0   878   196      0   397   411
   65   398   327    636  -217  -308    264    53    61    324    58    56
  382    56    39    457    30   -14    213    39    53    352  -130    69
  282  -123    68    416  -116    49    457   -87    26    505    68   -43
  237   969   114    453    -5   -27    670    66  -315    567    30  -108
  324   303   140     94   546   272     88   598   244    182   560   230
  241   577   170    161   596   211    216   601   157    317   705    67
   54   358   434     60   289   448    537  -143     5    187   147   136
  212   333   280    215   298   258    508   294    56     57   208   406
  399  -224   104    482  -196    58    582  -346  -197    134  -174   164
  222   -93    52    369   627    52    614   696  -437    167   376   260
  112   399   267    312   617    50    295   619    65    512  -234    26
  218   360   247    287  -222   141    296  -276   151    349  -523    28
  546  -297   -73    315  -408    91    569  -167   -49    603  -192  -172
   93   574   263    172   579   222    229   589   168    152   388   247
  304   618    58    269   663    96    288   621    67    130   358   345
  205   609   149    151   608   190     82   612   221     98   870   188
   93   789   229     91   756   232     86   730   214     80   711   201
  201   679   133    213   687   144    227   700   153    237   719   142
  295   524   152    673   378  -542      0   417   331    241   658    92
  255   658    98     91   425   270    199   399   204    101   412   271
  254   182   117    358   220   102    229   327   225    493  -451   -80
  456  -372    13    419  -274    91    262   771   107    153  -262   181
  168  -415   136    190  -557    91    430    49    12    567   112   -75
  179    25    44    513   -54   -26    141   105   156    168   313   340
  633   165  -140    531   148   -17    457   163    40    342   154    69
  256   130    81    191   101    96     58    16   218    636   292  -115
  556   -62   -54     33   394   407    188   207   169    681    81  -514
  143    67   104    235   333   161    480    -3   -40    170   269   313
  655   534  -505    177     5    27    112   231   371    495   818  -123
  481   911  -218    680   341  -327    571   736  -196    638   -70  -261
  244  1044    88     27   415   327    247   252   150    614    47  -167
  376    22    32    325    24    47    280   671    86    633   428  -127
  129  1143    87    312  1054   -49    390   995  -125      0  -414   151
    0  1156   106    275    20    50    226    13    41    194    10    28
  595   -70  -116    233   -38    46    285   -55    56    337   -58    53
  389   -48    38    421   -31    19    667   -81  -425    409    16    12
    0   477   271    228   490   199    165   366   283     99   476   264
    0   -82   190    409   905   -62    329   975     9    133  1090   155
  552   821  -330    195   -13    35    100   118   244      0  1103   171
  229  1106    32    665   487  -310    146   698   171    158   712   182
  167   734   194    173   764   187    192   830   153    262   608   107
  274   602   106    284   596   106    347   567    99    563   446    -3
   98    57   182    134   -53    67    170   -40    44    250   613   103
  563   620   -90     81   -66   148    215   894   131      0   131   360
   55    82   285      0    67   298    149   217   253      0  1031   197
    0   948   195    112   939   179    357   743    40    285   385   145
  292   828    81    428   379   116    346   450   126    483   486    65
  128  1019   179    191   253   211    398   812    -5    318   895    46
  413   650    34    617   546  -143    484   681   -17    632   621  -278
  400   525    90    142   163   203    149   344   356    193   357   289
  116   299   397    183  -115    80    283  -158    86    371  -166    81
  443  -148    56    492  -111    20    517    12   -64    682   203  -325
  474    91   -10    414   104    28    335   103    53    258    89    64
  198    69    65    157    48    69    679   230  -548    194   373   259
  101   174   299    100   350   405     67   385   382    102   363   375
  179   392   239     54   390   398     48   409   327    156     4    37
  125    12    75    106    16   119    439   -18    -1    482   -50    -7
  -52   142   340   -432     8    -5    -65   398   327   -636  -217  -308
 -264    53    61   -324    58    56   -382    56    39   -457    30   -14
 -213    39    53   -352  -130    69   -282  -123    68   -416  -116    49
 -457   -87    26   -505    68   -43   -237   969   114   -453    -5   -27
 -670    66  -315   -567    30  -108   -324   303   140    -94   546   272
  -88   598   244   -182   560   230   -241   577   170   -161   596   211
 -216   601   157   -317   705    67    -54   358   434    -60   289   448
 -537  -143     5   -187   147   136   -212   333   280   -215   298   258
 -508   294    56    -57   208   406   -399  -224   104   -482  -196    58
 -582  -346  -197   -134  -174   164   -222   -93    52   -369   627    52
 -614   696  -437   -167   376   260   -112   399   267   -312   617    50
 -295   619    65   -512  -234    26   -218   360   247   -287  -222   141
 -296  -276   151   -349  -523    28   -546  -297   -73   -315  -408    91
 -569  -167   -49   -603  -192  -172    -93   574   263   -172   579   222
 -229   589   168   -152   388   247   -304   618    58   -269   663    96
 -288   621    67   -130   358   345   -205   609   149   -151   608   190
  -82   612   221    -98   870   188    -93   789   229    -91   756   232
  -86   730   214    -80   711   201   -201   679   133   -213   687   144
 -227   700   153   -237   719   142   -295   524   152   -673   378  -542
 -241   658    92   -255   658    98    -91   425   270   -199   399   204
 -101   412   271   -254   182   117   -358   220   102   -229   327   225
 -493  -451   -80   -456  -372    13   -419  -274    91   -262   771   107
 -153  -262   181   -168  -415   136   -190  -557    91   -430    49    12
 -567   112   -75   -179    25    44   -513   -54   -26   -141   105   156
 -168   313   340   -633   165  -140   -531   148   -17   -457   163    40
 -342   154    69   -256   130    81   -191   101    96    -58    16   218
 -636   292  -115   -556   -62   -54    -33   394   407   -188   207   169
 -681    81  -514   -143    67   104   -235   333   161   -480    -3   -40
 -170   269   313   -655   534  -505   -177     5    27   -112   231   371
 -495   818  -123   -481   911  -218   -680   341  -327   -571   736  -196
 -638   -70  -261   -244  1044    88    -27   415   327   -247   252   150
 -614    47  -167   -376    22    32   -325    24    47   -280   671    86
 -633   428  -127   -129  1143    87   -312  1054   -49   -390   995  -125
 -275    20    50   -226    13    41   -194    10    28   -595   -70  -116
 -233   -38    46   -285   -55    56   -337   -58    53   -389   -48    38
 -421   -31    19   -667   -81  -425   -409    16    12   -228   490   199
 -165   366   283    -99   476   264   -409   905   -62   -329   975     9
 -133  1090   155   -552   821  -330   -195   -13    35   -100   118   244
 -229  1106    32   -665   487  -310   -146   698   171   -158   712   182
 -167   734   194   -173   764   187   -192   830   153   -262   608   107
 -274   602   106   -284   596   106   -347   567    99   -563   446    -3
  -98    57   182   -134   -53    67   -170   -40    44   -250   613   103
 -563   620   -90    -81   -66   148   -215   894   131    -55    82   285
 -149   217   253   -112   939   179   -357   743    40   -285   385   145
 -292   828    81   -428   379   116   -346   450   126   -483   486    65
 -128  1019   179   -191   253   211   -398   812    -5   -318   895    46
 -413   650    34   -617   546  -143   -484   681   -17   -632   621  -278
 -400   525    90   -142   163   203   -149   344   356   -193   357   289
 -116   299   397   -183  -115    80   -283  -158    86   -371  -166    81
 -443  -148    56   -492  -111    20   -517    12   -64   -682   203  -325
 -474    91   -10   -414   104    28   -335   103    53   -258    89    64
 -198    69    65   -157    48    69   -679   230  -548   -194   373   259
 -101   174   299   -100   350   405    -67   385   382   -102   363   375
 -179   392   239    -54   390   398    -48   409   327   -156     4    37
 -125    12    75   -106    16   119   -439   -18    -1   -482   -50    -7
  315   -18    28    255   -19    28    315   -73    23    377   -18    28
  316    35    32   -315   -18    28   -377   -18    28   -315   -73    23
 -255   -19    28   -316    35    32
"""

RIGID_LANDMARKS = np.array(
    [
        1,
        2,
        3,
        4,
        5,
        6,
        8,
        9,
        19,
        20,
        22,
        23,
        24,
        25,
        26,
        27,
        28,
        29,
        30,
        31,
        35,
        36,
        44,
        45,
        47,
        48,
        49,
        50,
        51,
        55,
        56,
        59,
        60,
        64,
        69,
        70,
        75,
        79,
        94,
        97,
        98,
        99,
        100,
        101,
        102,
        108,
        110,
        112,
        113,
        114,
        115,
        116,
        117,
        118,
        119,
        120,
        121,
        122,
        123,
        124,
        125,
        126,
        128,
        129,
        131,
        133,
        134,
        141,
        142,
        144,
        145,
        151,
        153,
        154,
        155,
        156,
        164,
        165,
        166,
        167,
        168,
        169,
        170,
        173,
        174,
        188,
        189,
        190,
        193,
        195,
        196,
        197,
        198,
        203,
        205,
        206,
        209,
        210,
        211,
        217,
        218,
        219,
        220,
        221,
        222,
        223,
        224,
        225,
        226,
        228,
        229,
        230,
        231,
        232,
        233,
        235,
        236,
        237,
        238,
        239,
        240,
        241,
        242,
        243,
        244,
        245,
        247,
        248,
        250,
        252,
        253,
        254,
        255,
        256,
        257,
        258,
        259,
        260,
        261,
        265,
        266,
        274,
        275,
        277,
        278,
        279,
        280,
        281,
        285,
        286,
        289,
        290,
        294,
        299,
        300,
        305,
        309,
        326,
        327,
        328,
        329,
        330,
        331,
        337,
        339,
        341,
        342,
        343,
        344,
        345,
        346,
        347,
        348,
        349,
        350,
        351,
        352,
        353,
        354,
        355,
        357,
        358,
        360,
        362,
        363,
        370,
        371,
        373,
        374,
        380,
        381,
        382,
        383,
        391,
        392,
        393,
        394,
        395,
        398,
        399,
        412,
        413,
        414,
        417,
        419,
        420,
        423,
        425,
        426,
        429,
        430,
        431,
        437,
        438,
        439,
        440,
        441,
        442,
        443,
        444,
        445,
        446,
        448,
        449,
        450,
        451,
        452,
        453,
        455,
        456,
        457,
        458,
        459,
        460,
        461,
        462,
        463,
        464,
        465,
        467,
    ]
)

CANONICAL_FACE = np.array(_CANONICAL_FACE_TENTHS_MM.split(), np.float32).reshape(-1, 3) * np.float32(1e-4)
"""(478, 3) float32 metres: the canonical face in the head frame."""
