"""Copy a finished training run's best model into the package as the shipped model, with its manifest
(edgekp.ship).

    python scripts/ship_model.py runs/kp_hvit_s_merlrav --data-root ../shared/data
    python scripts/ship_model.py training/kp_hvit_s_merlrav --data-root ../shared/data --allow-unfinished
    python scripts/ship_model.py training/kp_hvit_t_q_merlrav --size t --data-root ../shared/data
"""

from edgekp.ship import main

if __name__ == "__main__":
    main()
