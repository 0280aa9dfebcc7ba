"""Writing and publishing a challenge's open record: lessons, reusable assets, publication and its status."""
