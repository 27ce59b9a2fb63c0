from labkit.capstone.child import child_main

child_main()
