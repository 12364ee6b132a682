from prep.helpcache import main

main()
