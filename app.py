"""Dashboard entry point: page config, the sidebar dataset chooser, and navigation over pages/.

Run with ``streamlit run app.py``. Everything a page computes comes from ``xanes_core``.
"""

import streamlit as st

from pages import common

st.set_page_config(page_title="XANES topology explorer", page_icon=":material/blur_on:", layout="wide")

navigation = st.navigation([
    st.Page("pages/dataset.py", title="Dataset browser", icon=":material/table_view:", default=True),
    st.Page("pages/clustering.py", title="Clustering", icon=":material/scatter_plot:"),
    st.Page("pages/training.py", title="Training", icon=":material/model_training:"),
    st.Page("pages/tuning.py", title="Tuning", icon=":material/tune:"),
    st.Page("pages/results.py", title="Results", icon=":material/analytics:"),
    st.Page("pages/predict.py", title="Predict", icon=":material/online_prediction:"),
    st.Page("pages/data_sources.py", title="Data sources", icon=":material/cloud_download:"),
    st.Page("pages/present.py", title="Presentation", icon=":material/slideshow:"),
])
common.choose_dataset()
navigation.run()
