from storemon.cli import main

if __name__ == "__main__":  # not again in a worker process started by spawn (Dask, multiprocessing)
    raise SystemExit(main())
